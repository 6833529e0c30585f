"""Validation against the next XSD set, off the client's path: a second catalog loaded and
hot-reloaded beside the one in service (`schemas`), every checked document handed over as it
is checked (`tap`, an exchange tap the worker registers), judged by a process beside each
worker (`process`, `child`), and each document judged otherwise recorded
(`gateway.next_set_record`) with the `sne-gateway diff` change that explains it
(`explanation`)."""
