"""What the `formabot` group hands each command: the configuration, read when first needed,
and the database, opened once when first needed and closed when the command ends. Every
command reaches the database this one way, so none is left open and an unreadable file is
the same one clear line whichever command met it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
from sqlite_utils import Database

from bot import config as config_module
from storage.db import open_database


class State:
    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: config_module.Config | None = None
        self._db: Database | None = None

    @property
    def config(self) -> config_module.Config:
        if self._config is None:
            try:
                self._config = config_module.load(self.config_path)
            except config_module.ConfigError as error:
                raise click.ClickException(str(error)) from error
        return self._config

    @property
    def db(self) -> Database:
        """The configured database, migrated to the current schema."""
        if self._db is None:
            path = self.config.bot.database
            try:
                self._db = open_database(path)
            except sqlite3.Error as error:
                raise click.ClickException(f"{path}: cannot open the database ({error})") from error
        return self._db

    def close(self) -> None:
        """When the command ends, whatever it did (click calls it)."""
        if self._db is not None:
            self._db.close()
            self._db = None
