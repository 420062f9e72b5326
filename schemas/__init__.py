"""Marshmallow schemas: the xAPI data model per version and the payloads of Learnloop's own API."""
