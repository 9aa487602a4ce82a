"""Adapters for the systems kynect exchanges data with (DOI, IEES, KHIE): their formats as plain values."""
