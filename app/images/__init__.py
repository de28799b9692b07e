"""Images kept in the database and served by content hash at /images/<sha256>.jpg."""
