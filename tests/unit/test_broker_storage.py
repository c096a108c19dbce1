"""The broker's storage choice and the restart benchmark's arithmetic (no processes started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.cli.bench_probes import TreeMemory, component_of
from shared.cli.bench_restart import (
    Publisher,
    Snapshot,
    StorageRun,
    figures_table,
    lagging,
    next_chunk,
    readers_of,
)
from shared.cli.system import EmbeddedSystem, SystemStartError, check_log_belongs_to_databases
from shared.runtime.embedded import (
    OBJECT_STORE_PORTS,
    EmbeddedBroker,
    EmbeddedObjectStore,
    S3Storage,
)


def flag(command: list[str], name: str) -> str:
    """The value of a `-name=value` flag."""
    values = [arg.split("=", 1)[1] for arg in command if arg.startswith(f"-{name}=")]
    assert len(values) == 1, (name, command)
    return values[0]


def test_the_broker_keeps_its_log_in_memory_unless_given_s3_storage() -> None:
    assert EmbeddedBroker(9092).env() == {}
    command = EmbeddedBroker(9092).command()
    assert command[command.index("--storage-engine") + 1] == "memory://tansu/"


def test_on_s3_the_broker_is_pointed_at_the_bucket_with_the_store_keys() -> None:
    storage = S3Storage("http://127.0.0.1:8333", "tansu", "key", "secret")
    broker = EmbeddedBroker(9092, storage=storage)
    command = broker.command()
    assert command[command.index("--storage-engine") + 1] == "s3://tansu/"
    env = broker.env()
    assert env["AWS_ENDPOINT"] == "http://127.0.0.1:8333"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("key", "secret")
    assert env["AWS_ALLOW_HTTP"] == "true"


def test_the_store_and_the_broker_agree_on_keys_whatever_the_callers_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "someone-elses")
    store = EmbeddedObjectStore(tmp_path / "s3", 24000)
    storage = store.storage()
    assert store.env()["AWS_ACCESS_KEY_ID"] == storage.access_key
    assert store.env()["AWS_SECRET_ACCESS_KEY"] == storage.secret_key
    assert storage.endpoint == "http://127.0.0.1:24000"


def test_the_store_listens_on_its_ten_ports_only_on_loopback_and_reports_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shared.runtime.embedded.weed_binary", lambda: Path("/bin/weed"))
    command = EmbeddedObjectStore(tmp_path / "s3", 24000).command()
    port_flags = [arg for arg in command if ".port" in arg and "=" in arg]
    ports = sorted(int(arg.split("=")[1]) for arg in port_flags if not arg.endswith("=0"))
    assert ports == list(range(24000, 24000 + OBJECT_STORE_PORTS))
    assert flag(command, "ip.bind") == "127.0.0.1"
    assert flag(command, "master.telemetry") == "false"
    assert flag(command, "bucket") == "tansu"
    assert flag(command, "dir") == str((tmp_path / "s3").resolve())


def test_an_unknown_broker_storage_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="disk"):
        EmbeddedSystem(tmp_path, broker_storage="disk")


def test_a_kept_broker_log_next_to_new_databases_is_refused(tmp_path: Path) -> None:
    store, postgres = tmp_path / "s3", tmp_path / "postgres"
    check_log_belongs_to_databases(store, postgres)  # a first start: nothing on either side
    (store / "volumes").mkdir(parents=True)
    with pytest.raises(SystemStartError, match="would be applied again"):
        check_log_belongs_to_databases(store, postgres)
    postgres.mkdir()
    (postgres / "PG_VERSION").write_text("18\n")
    check_log_belongs_to_databases(store, postgres)  # both kept: a restart


def publisher(service: str, topic: str, stored: int, position: int, **acked: int) -> Publisher:
    return Publisher(service, topic, stored, position, {int(p[1:]): o for p, o in acked.items()})


ORDERS = "oms.orders.v1"


def test_caught_up_when_relays_handled_everything_and_readers_reached_the_acked_ends() -> None:
    snapshot = Snapshot(
        (publisher("order_service", ORDERS, 50, 50, p0=9, p1=19),),
        {("inventory_service", ORDERS, 0): 10, ("inventory_service", ORDERS, 1): 20},
    )
    assert lagging(snapshot, readers_of(snapshot)) == {}


def test_a_relay_behind_its_store_and_a_group_behind_the_end_are_named_with_their_lag() -> None:
    snapshot = Snapshot(
        (publisher("order_service", ORDERS, 50, 30, p0=9, p1=19),),
        {("inventory_service", ORDERS, 0): 4, ("inventory_service", ORDERS, 1): 20},
    )
    assert lagging(snapshot, readers_of(snapshot)) == {
        "relay order_service": 20,
        "inventory_service reading oms.orders.v1": 6,
    }


def test_a_reader_whose_offsets_the_broker_forgot_lags_by_all_it_read_before() -> None:
    before = {("inventory_service", ORDERS, 0), ("inventory_service", ORDERS, 1)}
    # The memory broker restarted: the relay republished everything, no offsets committed yet.
    after = Snapshot((publisher("order_service", ORDERS, 50, 50, p0=9, p1=19),), {})
    assert readers_of(after) == set()
    assert lagging(after, before) == {"inventory_service reading oms.orders.v1": 30}


def test_a_partition_the_relay_has_not_written_again_yet_counts_as_the_relay_behind() -> None:
    after = Snapshot((publisher("order_service", ORDERS, 50, 0),), {})
    assert lagging(after, {("inventory_service", ORDERS, 0)}) == {"relay order_service": 50}


def test_the_next_chunk_aims_at_the_target_from_the_events_per_order_so_far() -> None:
    assert next_chunk(100_000, 400, posted=0, baseline=400) == 2000  # first guess, capped
    assert next_chunk(100_000, 90_400, posted=9000, baseline=400) == 960  # 10 events an order
    assert next_chunk(100_000, 99_990, posted=9000, baseline=400) == 50  # never a tiny chunk


def test_processes_are_named_by_the_part_of_oms_up_they_are() -> None:
    assert component_of("postgres", ["postgres: oms_orders"]) == "postgresql"
    assert component_of("weed", ["weed", "mini"]) == "s3 store"
    assert component_of("tansu-v0.6.0-510f3e2", []) == "broker"
    assert component_of("python", ["python", "-m", "services.order_service"]) == "order_service"
    assert component_of("python", ["python", "-m", "shared.cli.main", "up"]) == "oms up"


def test_the_figures_of_both_storages_stand_side_by_side() -> None:
    memory = TreeMemory(1900.0, 560.0, {"postgresql": 180.0})
    runs = [
        StorageRun("memory", events=100_000, republished=66_000, memory_filled=memory),
        StorageRun("s3", events=100_000, memory_filled=memory, s3_data_mb=80.0),
    ]
    table = figures_table(runs, 100_000)
    assert [column.header for column in table.columns] == [
        "figure",
        "broker storage: memory",
        "broker storage: s3",
    ]
    figures = dict(zip(table.columns[0]._cells, table.columns[1]._cells, strict=True))
    assert figures["messages republished"] == "66,000"
    assert figures["memory, whole tree, filled: MB PSS (RSS sum)"] == "560 (1,900)"
