"""Races for the PostgreSQL-only tests (the `postgres` fixture): clients that start at the same instant."""

import threading

from django.db import connection


def run_clients(clients, work) -> list[Exception]:
    """Start one thread per client at the same instant; each closes its own connection at the end."""
    barrier = threading.Barrier(len(clients))
    errors: list[Exception] = []

    def client(who):
        try:
            barrier.wait()
            work(who)
        except Exception as error:  # noqa: BLE001 - collected and asserted empty
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors
