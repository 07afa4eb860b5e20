"""Browser pages of projects, releases, phases and freeze windows (config/web.py glues the
services' errors to pages)."""
