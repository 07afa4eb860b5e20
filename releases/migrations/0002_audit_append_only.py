"""On PostgreSQL the audit trail refuses UPDATE and DELETE at the database level."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION shipcheck_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER releases_auditevent_append_only
    BEFORE UPDATE OR DELETE ON releases_auditevent
    FOR EACH ROW EXECUTE FUNCTION shipcheck_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS releases_auditevent_append_only ON releases_auditevent;
DROP FUNCTION IF EXISTS shipcheck_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("releases", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
