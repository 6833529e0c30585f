"""Validation against the next XSD set, off the client's path: a second catalog loaded and
hot-reloaded beside the one in service (`schemas`), every checked document handed over as it
is checked (`tap`), judged by a thread of each worker (`worker`), and each document judged
otherwise recorded with the `sne-gateway diff` change that explains it (`explanation`)."""
