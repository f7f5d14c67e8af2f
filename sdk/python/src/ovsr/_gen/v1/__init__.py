"""Messages and stubs of the ovsr.v1 API; do not edit."""
