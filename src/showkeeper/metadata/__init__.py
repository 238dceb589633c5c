"""Metadata files beside the library: Kodi/Jellyfin NFOs (nfo.py) and the services that write them."""
