import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

export interface Column {
  label: string;
  /** Sets the column's width in a fixed-layout table (styles.css). */
  className?: string;
}

/** The header row of a data table (History, Audit). */
export function TableHead({ columns }: { columns: readonly Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column.label} scope="col" className={column.className}>
            {column.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/**
 * A moment as two short lines, the date over the time, so a table column stays narrow. A value
 * that is not ISO 8601 shows as stored rather than as "Invalid Date".
 */
export function When({ iso }: { iso: string }) {
  const { i18n } = useTranslation();
  const [dates, times] = useMemo(
    () => [new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium' }), new Intl.DateTimeFormat(i18n.language, { timeStyle: 'medium' })],
    [i18n.language],
  );
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span className="cell-line">{iso}</span>;
  return (
    <time dateTime={iso} className="cell-lines">
      <span className="cell-line">{dates.format(date)}</span>
      <span className="cell-line">{times.format(date)}</span>
    </time>
  );
}
