"""Modules generated from proto/ovsr/v1; do not edit."""
