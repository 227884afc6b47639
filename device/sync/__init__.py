"""USB sync: the framed protocol (protocol.py, PROTOCOL.md), pairing maths and the SyncAgent.

Import the agent from device.sync.agent (it needs pyserial); protocol and pairing are pure.
"""
