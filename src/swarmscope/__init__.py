"""swarmscope: find coordinated inauthentic behaviour, with publishable evidence."""

__version__ = "0.1.0"
