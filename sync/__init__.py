"""Both ends of the wire: the protocol, the device's client and worker, and the server."""
