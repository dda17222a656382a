"""Give the roles their payment and quota-placement permissions (resettlement/roles.py).

The benefits area (0009) added the models and the ``approve_payments`` / ``record_payments``
permissions after the roles were created (0006); this applies the updated table with the same
function as ``manage.py sync_roles``.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def apply_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make the new ones exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    from resettlement.roles import sync_roles

    sync_roles(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("resettlement", "0011_version_db_default"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Going back leaves the groups as they are; 0006 removes them when it is reversed.
    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
