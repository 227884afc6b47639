"""Walk Coach firmware: a hip-worn step counter and walking coach for the Raspberry Pi Zero 2 W."""

__version__ = "0.1.0"
