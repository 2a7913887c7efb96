"""Database triggers that refuse to change or delete audit entries.

PostgreSQL refuses UPDATE and DELETE. SQLite refuses UPDATE only: Django's
test flush empties tables with DELETE there (PostgreSQL uses TRUNCATE, which
row triggers do not see).
"""

from django.db import migrations

POSTGRESQL_FORWARD = """
CREATE FUNCTION articles_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_auditentry_append_only
    BEFORE UPDATE OR DELETE ON articles_auditentry
    FOR EACH ROW EXECUTE FUNCTION articles_auditentry_append_only();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS articles_auditentry_append_only ON articles_auditentry;
DROP FUNCTION IF EXISTS articles_auditentry_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER articles_auditentry_append_only BEFORE UPDATE ON articles_auditentry
BEGIN SELECT RAISE(ABORT, 'The audit log is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS articles_auditentry_append_only;"

SQL = {
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def forward(apps, schema_editor):
    sql = SQL.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql[0])


def backward(apps, schema_editor):
    sql = SQL.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql[1])


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_review_workflow")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
