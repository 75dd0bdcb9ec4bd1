"""A real OpenStack cloud on one machine (``tools/cloud.sh``): MariaDB,
RabbitMQ, Keystone, Placement, Glance, Neutron and Nova's services as
processes on 127.0.0.0/8, and nova-compute services each on a libvirt host
of its own (:mod:`.libvirt_hosts`) running ``wrs_lm.LibvirtDriver``.

For trying the product and for ``tests/deployment``; doc/real-cloud.md.
"""
