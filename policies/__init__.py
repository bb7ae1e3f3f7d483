"""paved's CrossGuard policy pack: importable rules; only ``__main__.py`` builds the pack."""
