/** The stream a pg-basebackup backup consists of: one tar in pg_basebackup's format, WAL included. */
export const BASE_TAR = "base.tar";
