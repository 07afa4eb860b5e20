"""On PostgreSQL a sign-off can't be deleted, and the only update allowed is revoking it once."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION shipcheck_signoff_only_revoke() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'sign-offs are never deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
       OR (to_jsonb(NEW) - 'revoked_at' - 'revoked_reason')
          IS DISTINCT FROM (to_jsonb(OLD) - 'revoked_at' - 'revoked_reason') THEN
        RAISE EXCEPTION 'sign-offs are never edited; they can only be revoked, once'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER approvals_signoff_only_revoke
    BEFORE UPDATE OR DELETE ON approvals_signoff
    FOR EACH ROW EXECUTE FUNCTION shipcheck_signoff_only_revoke();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS approvals_signoff_only_revoke ON approvals_signoff;
DROP FUNCTION IF EXISTS shipcheck_signoff_only_revoke();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
