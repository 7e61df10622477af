"""newsdedup: deduplication and story clustering for news feeds."""
