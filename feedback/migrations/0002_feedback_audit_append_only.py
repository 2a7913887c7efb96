"""Database triggers that refuse to change or delete feedback audit entries (as articles 0003).

PostgreSQL refuses UPDATE and DELETE. SQLite refuses UPDATE only: Django's
test flush empties tables with DELETE there (PostgreSQL uses TRUNCATE, which
row triggers do not see).
"""

from django.db import migrations

POSTGRESQL_FORWARD = """
CREATE FUNCTION feedback_feedbackauditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The feedback audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER feedback_feedbackauditentry_append_only
    BEFORE UPDATE OR DELETE ON feedback_feedbackauditentry
    FOR EACH ROW EXECUTE FUNCTION feedback_feedbackauditentry_append_only();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS feedback_feedbackauditentry_append_only ON feedback_feedbackauditentry;
DROP FUNCTION IF EXISTS feedback_feedbackauditentry_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER feedback_feedbackauditentry_append_only BEFORE UPDATE ON feedback_feedbackauditentry
BEGIN SELECT RAISE(ABORT, 'The feedback audit log is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS feedback_feedbackauditentry_append_only;"

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
    dependencies = [("feedback", "0001_reader_feedback")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
