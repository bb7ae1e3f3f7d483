"""One rule per module. Each category's index module lists its rules explicitly."""
