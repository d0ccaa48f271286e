"""``tom data``: upload, list, download, reprocess and export data (a face over ``tom.data``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import confirm, json_option, print_json, print_record, print_table, progress, write_csv
from tomcore.errors import TomError

LIST_COLUMNS = ["id", "target", "type", "name", "size", "status", "source", "created", "reduced"]
PHOTOMETRY_COLUMNS = ["mjd", "date", "band", "mag", "mag_err", "limit", "flux", "flux_err", "flux_unit", "telescope",
                      "instrument", "source"]


def _size(value: Any) -> str:
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(value)


def _row(info: Any) -> dict[str, Any]:
    return {
        "id": info.id, "target": info.target_name, "type": info.data_type, "name": info.original_name,
        "size": info.size, "status": info.status, "source": info.source, "provenance": info.provenance,
        "created": info.created, "reduced": ", ".join(f"{k} {v}" for k, v in info.reduced.items()),
        "observation": info.observation_id, "url": info.url, "error": info.error,
    }


def _record(info: Any) -> dict[str, Any]:
    import attrs

    return attrs.asdict(info, recurse=False)


def _mjd(value: str | None) -> float | None:
    from tomcore.services.data import mjd_from

    return None if value is None else mjd_from(value)


@click.group("data")
def data_group() -> None:
    """Data products (files) and reduced data (photometry, spectra): upload, list, export."""


@data_group.command("upload")
@click.argument("target")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--type", "data_type", metavar="TYPE",
              help="photometry, spectroscopy, image, fits, other, or a type a processor adds "
                   "(default: guessed for FITS and images).")
@click.option("--source", help="Who made the data (a facility or survey; default: upload).")
@click.option("--observation", "observation_id", type=int, help="The observation record the files belong to.")
@json_option
def upload_command(target: str, files: tuple[Path, ...], data_type: str | None, source: str | None,
                   observation_id: int | None, as_json: bool) -> None:
    """Store FILES for TARGET and process them into reduced data.

    Each file is stored, processed and its reduced data saved in one transaction. A file
    that fails to process is kept, marked failed with the line at fault; fix the cause and
    run `tom data reprocess`. Exits 1 if any file failed.
    """
    tom = get_tom()
    total = sum(f.stat().st_size for f in files if f.is_file())
    with progress(total, "Uploading", enabled=not as_json) as advance:
        outcomes = tom.data.upload(target, files, data_type=data_type, source=source, observation_id=observation_id,
                                   progress=advance)
    if as_json:
        print_json([{"file": str(o.path), "ok": o.ok, "error": o.error or (o.product.error if o.product else None),
                     "product": _record(o.product) if o.product else None} for o in outcomes])
    else:
        for outcome in outcomes:
            product = outcome.product
            if product is None:
                click.echo(f"{outcome.path.name}: not stored: {outcome.error}", err=True)
            elif product.existing and product.status == "failed":
                click.echo(f"{outcome.path.name}: already stored as product {product.id}, whose processing failed:\n"
                           f"  {product.error}\n  to process it as another type: tom data reprocess {product.id} "
                           f"--as TYPE", err=True)
            elif product.existing and data_type and data_type != product.data_type:
                click.echo(f"{outcome.path.name}: already stored as product {product.id} ({product.data_type}); nothing "
                           f"added. To process it as {data_type}: tom data reprocess {product.id} --as {data_type}")
            elif product.existing:
                click.echo(f"{outcome.path.name}: already stored as product {product.id}; nothing added")
            elif product.status == "failed":
                click.echo(f"{outcome.path.name}: stored as product {product.id} but processing FAILED:\n"
                           f"  {product.error}\n  fix it, then: tom data reprocess {product.id}", err=True)
            else:
                added = ", ".join(_count(v, k) for k, v in product.reduced.items()) or "no reduced data"
                click.echo(f"{outcome.path.name}: product {product.id} ({product.data_type}, {product.status}): {added}")
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise TomError(f"{len(failed)} of {len(outcomes)} file(s) were not stored or not processed")


_NOUNS = {"photometry": ("photometry point", "photometry points"), "spectroscopy": ("spectrum", "spectra")}


def _count(n: int, kind: str) -> str:
    """``27 photometry points``, ``1 spectrum``, ``3 values`` (other kinds: ``3 KIND``)."""
    one, many = _NOUNS.get(kind, (kind, kind))
    return f"{n} {one if n == 1 else many}"


@data_group.command("reprocess")
@click.argument("ids", nargs=-1, type=int)
@click.option("--target", help="Every product of this target.")
@click.option("--failed", is_flag=True, help="Only products whose processing failed.")
@click.option("--type", "data_type", metavar="TYPE", help="Only products of this type.")
@click.option("--all", "every", is_flag=True, help="Every product (of the other filters).")
@click.option("--as", "as_type", metavar="TYPE", help="Process as this data type (and record it as the type).")
@json_option
def reprocess_command(ids: tuple[int, ...], target: str | None, failed: bool, data_type: str | None, every: bool,
                      as_type: str | None, as_json: bool) -> None:
    """Process data products again (after fixing a processor or installing one).

    Name products by ID, or choose them with --target, --failed, --type or --all. With
    --as TYPE they are processed (and recorded) as that type: a file uploaded with the
    wrong --type is fixed this way.
    """
    if not (ids or target or failed or data_type or every):
        raise click.UsageError("name product IDS, or use --target, --failed, --type or --all")
    tom = get_tom()
    status = "failed" if failed else None
    with progress(None, "Processing", enabled=not as_json) as advance:
        done = tom.data.reprocess(list(ids) or None, target=target, status=status, data_type=data_type,
                                  as_type=as_type, progress=advance)
    if as_json:
        print_json([_record(p) for p in done])
    else:
        print_table([_row(p) for p in done], ["id", "target", "type", "name", "status", "reduced", "error"],
                    empty="No data product to process.")
    not_processed = [p for p in done if p.status == "failed"]
    if not_processed:
        raise TomError(f"{len(not_processed)} of {len(done)} data product(s) failed to process")


@data_group.command("list")
@click.option("--target", "targets", multiple=True, help="Only this target (repeatable).")
@click.option("--type", "data_type", metavar="TYPE", help="Only this data type.")
@click.option("--status", type=click.Choice(["processed", "failed", "stored"]), help="Only this status.")
@click.option("--source", help="Only this source (facility, broker, upload).")
@click.option("--observation", "observation_id", type=int, help="Only this observation record's products.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@json_option
def list_command(targets: tuple[str, ...], data_type: str | None, status: str | None, source: str | None,
                 observation_id: int | None, limit: int | None, as_json: bool) -> None:
    """List data products, newest first."""
    products = get_tom().data.list(target=list(targets) or None, data_type=data_type, status=status, source=source,
                                   observation_id=observation_id, limit=limit)
    if as_json:
        print_json([_record(p) for p in products])
    else:
        print_table([_row(p) for p in products], LIST_COLUMNS, formatters={"size": _size},
                    empty="No data products.")


@data_group.command("show")
@click.argument("product_id", type=int)
@json_option
def show_command(product_id: int, as_json: bool) -> None:
    """Show one data product."""
    info = get_tom().data.get(product_id)
    if as_json:
        print_json(_record(info))
        return
    record = _row(info)
    record.update(checksum=info.checksum, md5=info.md5, processor=info.processor, processed=info.processed,
                  product_id=info.product_id, metadata=info.metadata or None)
    print_record(record, title=f"Data product {info.id}")


@data_group.command("types")
@json_option
def types_command(as_json: bool) -> None:
    """Data types and the processors that read them."""
    tom = get_tom(check_schema=False)
    rows = []
    for data_type in tom.data.types():
        from tomcore.services.processing import candidates_for

        processors = candidates_for(tom, data_type)
        rows.append({"type": data_type, "processors": [p.name for p in processors],
                     "reads": sorted({s for p in processors for s in p.suffixes})})
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["type", "processors", "reads"])


@data_group.command("download")
@click.option("--target", "targets", multiple=True, help="Only this target (repeatable).")
@click.option("--type", "data_type", metavar="TYPE", help="Only this data type.")
@click.option("--id", "ids", multiple=True, type=int, help="Only this product (repeatable).")
@click.option("--to", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Copy the files into DIR/<target>/.")
@click.option("--overwrite", is_flag=True, help="Copy again files already there with the same size.")
def download_command(targets: tuple[str, ...], data_type: str | None, ids: tuple[int, ...], directory: Path,
                     overwrite: bool) -> None:
    """Copy data products out of storage into a directory."""
    tom = get_tom()
    products = tom.data.list(ids=list(ids) or None, target=list(targets) or None, data_type=data_type)
    if not products:
        click.echo("No data products to download.")
        return
    total = sum(p.size or 0 for p in products)
    with progress(total, f"Downloading {len(products)} files") as advance:
        paths = tom.data.download(products, directory, progress=advance, overwrite=overwrite)
    click.echo(f"Downloaded {len(paths)} files ({_size(total)}) to {directory}")


@data_group.command("delete")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--keep-file", is_flag=True, help="Keep the files in storage; delete only the records.")
@click.option("--yes", is_flag=True, help="Do not ask.")
def delete_command(ids: tuple[int, ...], keep_file: bool, yes: bool) -> None:
    """Delete data products with their reduced data (and files)."""
    tom = get_tom()
    products = [tom.data.get(i) for i in ids]
    confirm(f"Delete {len(products)} data product(s) and their reduced data"
            f"{'' if keep_file else ' and files'}?", yes)
    count = tom.data.delete(list(ids), keep_file=keep_file)
    click.echo(f"Deleted {count} data product(s).")


@data_group.command("photometry")
@click.argument("target")
@click.option("--band", "bands", multiple=True, help="Only this band (repeatable).")
@click.option("--since", metavar="WHEN", help="From this time: MJD, JD or ISO date.")
@click.option("--until", metavar="WHEN", help="Up to this time: MJD, JD or ISO date.")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
def photometry_command(target: str, bands: tuple[str, ...], since: str | None, until: str | None, as_json: bool,
                       as_csv: bool) -> None:
    """Show a target's photometry, by time."""
    from tomcore.services.export import iso_dates

    table = get_tom().data.photometry(target, band=list(bands) or None, since=_mjd(since), until=_mjd(until))
    rows = table.rename_columns(["target_id", "mjd", *table.column_names[2:]]).append_column(
        "date", iso_dates(table.column("time"))).to_pylist()
    if as_json:
        print_json([{k: row.get(k) for k in [*PHOTOMETRY_COLUMNS, "source_id"]} for row in rows])
    elif as_csv:
        write_csv(rows, [*PHOTOMETRY_COLUMNS, "source_id"], sys.stdout)
    else:
        print_table(rows, PHOTOMETRY_COLUMNS, empty="No photometry.",
                    formatters={"mjd": lambda v: f"{v:.5f}", "date": lambda v: (v or "")[:19]})


@data_group.command("spectra")
@click.argument("target")
@json_option
def spectra_command(target: str, as_json: bool) -> None:
    """List a target's spectra."""
    from tomcore.services.export import iso_dates

    spectra = get_tom().data.spectra(target)
    rows = []
    for s in spectra:
        import pyarrow as pa

        date = iso_dates(pa.array([s.time], pa.float64()))[0].as_py() if s.time is not None else None
        rows.append({"id": s.id, "mjd": s.time, "date": date[:19] if date else None, "telescope": s.telescope, "instrument": s.instrument,
                     "points": len(s.wavelength), "from": float(s.wavelength.min()), "to": float(s.wavelength.max()),
                     "wavelength_unit": s.wavelength_unit, "flux_unit": s.flux_unit, "source": s.source,
                     "product": s.data_product_id})
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "date", "telescope", "instrument", "points", "from", "to", "wavelength_unit",
                           "source", "product"], empty="No spectra.")


@data_group.command("export")
@click.option("--target", "targets", multiple=True, help="This target (repeatable; default: every target).")
@click.option("--list", "list_name", help="The targets of this target list.")
@click.option("--kind", type=click.Choice(["photometry", "spectra"]), default="photometry", show_default=True,
              help="What to export (spectra: one row per wavelength).")
@click.option("--format", "fmt", type=click.Choice(["csv", "ecsv", "votable", "parquet"]),
              help="File format (default: from the file's suffix).")
@click.option("--band", "bands", multiple=True, help="Only this band (repeatable; photometry).")
@click.option("--since", metavar="WHEN", help="From this time: MJD, JD or ISO date (photometry).")
@click.option("--until", metavar="WHEN", help="Up to this time: MJD, JD or ISO date (photometry).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file.")
@json_option
def export_command(targets: tuple[str, ...], list_name: str | None, kind: str, fmt: str | None,
                   bands: tuple[str, ...], since: str | None, until: str | None, output: Path, as_json: bool) -> None:
    """Export reduced data to CSV, ECSV, VOTable or Parquet, streamed (constant memory)."""
    from tomcore.services.export import export

    tom = get_tom()
    with progress(None, "Exporting", enabled=not as_json) as advance:
        report = export(tom, output, format=fmt, kind=kind, targets=list(targets) or None, list_name=list_name,
                        bands=list(bands) or None, since=_mjd(since), until=_mjd(until), progress=advance)
    if as_json:
        print_json({"path": str(report.path), "format": report.format, "kind": report.kind, "rows": report.rows,
                    "seconds": round(report.seconds, 3)})
    else:
        click.echo(f"Wrote {report.rows} rows of {report.kind} to {report.path} ({report.format}, "
                   f"{report.seconds:.1f} s)")


@data_group.command("migrate-storage")
@click.option("--to", "url", required=True, metavar="URL",
              help="The new storage: a directory (relative to the TOM's home) or a URL such as s3://bucket/prefix.")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.option("--keep-config", is_flag=True, help="Do not set storage.url in tom.toml to the new URL.")
def migrate_storage_command(url: str, yes: bool, keep_config: bool) -> None:
    """Move every data product to another storage and update the records.

    Each file is copied, checked against its checksum, re-pointed, then deleted from the old
    storage. Interrupted, run it again: it goes on where it stopped.
    """
    from tomcore.services.storage_migration import migrate, pending

    tom = get_tom()
    count, size = pending(tom, url)
    target = tom.storage.open(url)
    confirm(f"Move {count} data product(s) ({_size(size)}) to {target.display}?", yes or count == 0)
    with progress(size, "Moving") as advance:
        report = migrate(tom, url, progress=advance, update_config=not keep_config)
    click.echo(f"Moved {report.moved} product(s) ({_size(report.bytes)}) to {target.display}"
               + (f"; finished {report.cleaned} interrupted move(s)" if report.cleaned else "")
               + (f"; {report.already_there} were already there" if report.already_there else ""))
    if report.config_updated:
        click.echo(f"storage.url in tom.toml is now {report.url}")
    if report.note:
        click.echo(f"note: {report.note}", err=True)
