"""partnerbot: grounded, cited answers about client, contractor, customer, supplier and partner relationships."""

__version__ = "0.1.0"
