"""The committed migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine

from app import create_app
from app.extensions import db
from tests.conftest import _test_overrides


def test_migrations_match_the_models(tmp_path, database_url):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app({**_test_overrides(), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        engine.dispose()
        db.engine.dispose()
    assert diff == [], "models changed without a migration: run `flask --app wsgi db migrate`"
