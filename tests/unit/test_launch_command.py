from __future__ import annotations

from pathlib import Path

from llmops.config import load_config
from llmops.training.launch import launch_command


def _flag(cmd: list[str], name: str) -> str | None:
    return cmd[cmd.index(name) + 1] if name in cmd else None


def test_local_ranks_without_hostfile() -> None:
    cmd = launch_command(load_config(overrides={"training": {"world_size": 2}}), Path("/tmp/job.json"))
    assert _flag(cmd, "--num_gpus") == "2" and _flag(cmd, "--num_nodes") == "1"
    assert "--hostfile" not in cmd
    assert cmd[-4:] == ["--module", "llmops.training.train", "--job", "/tmp/job.json"]


def test_hostfile_over_ssh_and_per_node(tmp_path: Path) -> None:
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("node-a slots=8\nnode-b slots=8\n")
    ssh = launch_command(load_config(overrides={"training": {"hostfile": str(hostfile)}}), Path("/j.json"))
    assert _flag(ssh, "--hostfile") == str(hostfile) and "--no_ssh" not in ssh and "--num_gpus" not in ssh
    per_node = launch_command(
        load_config(
            overrides={"training": {"hostfile": str(hostfile), "ssh": False, "node_rank": 1, "master_addr": "node-a"}}
        ),
        Path("/j.json"),
    )
    assert "--no_ssh" in per_node and _flag(per_node, "--node_rank") == "1"
    assert _flag(per_node, "--master_addr") == "node-a"


def test_torchrun_launcher() -> None:
    cmd = launch_command(load_config(overrides={"training": {"launcher": "torchrun", "world_size": 3}}), Path("/j"))
    assert cmd[1:3] == ["-m", "torch.distributed.run"] and _flag(cmd, "--nproc_per_node") == "3"
