import type { ComponentChildren } from 'preact';

/**
 * The UI's table: sortable headers (buttons, with `aria-sort`), optional row selection (checkboxes with
 * labels), a caption for screen readers, and horizontal scrolling on a narrow screen. Sorting and paging
 * are the caller's (the APIs sort and page on the server), so it renders only the rows it is given.
 */
export interface Column<T> {
  readonly id: string;
  readonly header: ComponentChildren;
  readonly cell: (row: T) => ComponentChildren;
  /** What `onSort` receives for this column; unsortable without. */
  readonly sortKey?: string;
  readonly numeric?: boolean;
  /** A tooltip for the header (the full name of a shortened one). */
  readonly title?: string;
}

export interface SortState {
  readonly key: string;
  readonly descending: boolean;
}

export interface DataTableProps<T> {
  readonly caption: string;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  readonly rowKey: (row: T) => string;
  /** How a row is named to a screen reader (its selection checkbox's label). */
  readonly rowLabel?: (row: T) => string;
  readonly sort?: SortState | undefined;
  readonly onSort?: (key: string) => void;
  readonly selected?: ReadonlySet<string>;
  readonly onSelect?: (key: string, selected: boolean) => void;
  readonly empty?: ComponentChildren;
  readonly rowClass?: (row: T) => string | undefined;
}

export function DataTable<T>(props: DataTableProps<T>) {
  const { columns, rows, rowKey, sort, onSort, selected, onSelect } = props;
  return (
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {onSelect ? (
              <th scope="col" class="select-column">
                <span class="visually-hidden">Selected</span>
              </th>
            ) : null}
            {columns.map((column) => {
              const sorted = column.sortKey !== undefined && sort?.key === column.sortKey;
              const ariaSort = sorted ? (sort?.descending ? 'descending' : 'ascending') : undefined;
              return (
                <th
                  key={column.id}
                  scope="col"
                  class={column.numeric ? 'numeric' : undefined}
                  aria-sort={ariaSort}
                  title={column.title}
                >
                  {column.sortKey !== undefined && onSort ? (
                    <button type="button" class="sort-button" onClick={() => onSort(column.sortKey!)}>
                      {column.header}
                      <span aria-hidden="true" class="sort-mark">
                        {sorted ? (sort?.descending ? ' ▼' : ' ▲') : ' ↕'}
                      </span>
                    </button>
                  ) : (
                    column.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length + (onSelect ? 1 : 0)} class="empty">
                {props.empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : (
            rows.map((row) => {
              const key = rowKey(row);
              return (
                <tr key={key} class={props.rowClass?.(row)}>
                  {onSelect ? (
                    <td class="select-column">
                      <input
                        type="checkbox"
                        checked={selected?.has(key) ?? false}
                        aria-label={`Select ${props.rowLabel?.(row) ?? key}`}
                        onChange={(event) => onSelect(key, event.currentTarget.checked)}
                      />
                    </td>
                  ) : null}
                  {columns.map((column) => (
                    <td key={column.id} class={column.numeric ? 'numeric' : undefined}>
                      {column.cell(row)}
                    </td>
                  ))}
                </tr>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}
