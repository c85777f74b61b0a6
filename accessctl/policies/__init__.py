"""Role documents: schema, validation, compilation to Casbin, versions and assignments."""
