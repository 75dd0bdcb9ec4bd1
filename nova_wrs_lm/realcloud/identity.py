"""Keystone's content of the one-machine cloud: the member project and
user, and the catalog (compute, placement, image, network), made through
Keystone's API as an operator would; and admin connections."""

from nova_wrs_lm.realcloud import configs
from nova_wrs_lm.realcloud import layout as L

#: type: (name, service key of layout.PORTS, path)
CATALOG = {
    'compute': ('nova', 'nova-api', '/v2.1'),
    'placement': ('placement', 'placement', ''),
    'image': ('glance', 'glance', ''),
    'network': ('neutron', 'neutron', ''),
}


def connect(cloud_name=None, clouds_yaml=None, **auth):
    """An openstacksdk connection: a clouds.yaml entry, or the admin
    user of :mod:`.layout` (before clouds.yaml is written)."""
    import openstack
    if cloud_name:
        from openstack import config as os_config
        config = os_config.OpenStackConfig(config_files=[clouds_yaml])
        return openstack.connection.Connection(
            config=config.get_one(cloud_name))
    return openstack.connect(
        auth_url=configs.url('keystone', '/v3'),
        username=auth.get('username', L.ADMIN_USER),
        password=L.PASSWORD,
        project_name=auth.get('project_name', L.ADMIN_PROJECT),
        user_domain_name='Default', project_domain_name='Default',
        region_name=L.REGION, interface='public', identity_api_version=3)


def admin_connection():
    return connect()


def setup(lay):
    """Create what is missing (idempotent)."""
    conn = connect()
    ident = conn.identity
    project = ident.find_project(L.MEMBER_PROJECT)
    if project is None:
        project = ident.create_project(name=L.MEMBER_PROJECT,
                                       domain_id='default')
    user = ident.find_user(L.MEMBER_USER)
    if user is None:
        user = ident.create_user(name=L.MEMBER_USER, password=L.PASSWORD,
                                 domain_id='default',
                                 default_project_id=project.id)
    member = ident.find_role('member')
    ident.assign_project_role_to_user(project, user, member)
    # The services authenticate as the admin user; Nova sends its token
    # as a service token too, which keystonemiddleware accepts only from
    # a user with the service role.
    service_role = ident.find_role('service') or ident.create_role(
        name='service')
    admin_project = ident.find_project(L.ADMIN_PROJECT)
    admin_user = ident.find_user(L.ADMIN_USER)
    ident.assign_project_role_to_user(admin_project, admin_user,
                                      service_role)
    region = L.REGION
    for service_type, (name, port_name, path) in CATALOG.items():
        service = ident.find_service(name)
        if service is None:
            service = ident.create_service(name=name, type=service_type)
        if not list(ident.endpoints(service_id=service.id)):
            ident.create_endpoint(service_id=service.id, interface='public',
                                  url=configs.url(port_name, path),
                                  region_id=region)
    conn.close()
