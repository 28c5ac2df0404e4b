"""The signed-in home: `/account`, the hub that links every capability."""
