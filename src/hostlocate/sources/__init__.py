"""The I/O edges that ask remote sources: RDAP registries and their bootstrap.

Each module here turns a remote answer into hostlocate's records and reports
remote faults as error codes, never as exceptions.
"""
