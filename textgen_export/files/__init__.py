"""File handling every layer shares: atomic writes, checksums, bounded JSON reading."""
