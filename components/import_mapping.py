"""The import's column mapping (R32): one select per column of the file, set from its header
and changeable, and the first rows as the import will read them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from nicegui import ui

from components.frame import heading
from portal_ui.i18n import _
from portal_ui.import_files import FIELD_LABELS, CsvFile, ImportField, sample

IGNORE = ""  # the select's value for "Ignore this column"
SAMPLE_ROWS = 5

Changed = Callable[[], Awaitable[None]]


class ColumnMapping:
    """The selects of one file; `mapping()` reads them. Choosing a field that another column
    has takes it from that column (a field has one column)."""

    def __init__(self, file: CsvFile, guessed: Sequence[ImportField | None], changed: Changed):
        self.file = file
        self.changed = changed
        self.selects: list[ui.select] = []
        options = {IGNORE: _("Ignore this column")}
        options.update({field.value: _(label) for field, label in FIELD_LABELS.items()})
        with ui.element("div").classes("w-full grid grid-cols-[minmax(8rem,1fr)_16rem] gap-2"):
            ui.label(_("Column of the file")).classes("text-sm font-semibold text-gray-900")
            ui.label(_("Imported as")).classes("text-sm font-semibold text-gray-900")
            for index, header in enumerate(file.headers):
                label = header or _("Column {number}").format(number=index + 1)
                ui.label(label).classes("self-center text-gray-900 break-all")
                field = guessed[index] if index < len(guessed) else None
                select = ui.select(options, value=field.value if field else IGNORE)
                select.props("outlined dense options-dense").mark(f"map-column-{index}")
                select.props["aria-label"] = _("Imported as") + f": {label}"
                select.on_value_change(lambda event, index=index: self._chosen(index, event.value))
                self.selects.append(select)
        heading(_("The first rows as they will be read"), level=3, classes="mt-4")
        self.table = ui.table(columns=[], rows=[]).props("dense flat bordered wrap-cells")
        self.table.classes("w-full").mark("import-sample")
        self._show_sample()

    def mapping(self) -> tuple[ImportField | None, ...]:
        return tuple(ImportField(select.value) if select.value else None for select in self.selects)

    async def _chosen(self, index: int, value: str) -> None:
        if value:
            for other, select in enumerate(self.selects):
                if other != index and select.value == value:
                    select.set_value(IGNORE)  # its own change event follows
        self._show_sample()
        await self.changed()

    def _show_sample(self) -> None:
        mapping = self.mapping()
        fields = [field for field in ImportField if field in mapping]
        self.table.columns = [
            {
                "name": field.value,
                "label": _(FIELD_LABELS[field]),
                "field": field.value,
                "align": "left",
            }
            for field in fields
        ]
        self.table.rows = [
            {field.value: cells.get(field, "") for field in fields}
            for cells in sample(self.file, mapping, SAMPLE_ROWS)
        ]
        self.table.update()
