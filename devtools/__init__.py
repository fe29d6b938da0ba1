"""Development tools shared by tests/ and bench/ (neither imports the other): a throwaway
PostgreSQL server and a driver-level statement counter. Not part of the product."""
