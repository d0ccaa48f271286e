"""File readers of the built-in processors (imported only when a file is processed)."""
