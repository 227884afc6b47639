"""hostsync: the caregiver's tool to pair with, pull from and configure a Walk Coach over USB."""

__version__ = "0.1.0"
