/**
 * How a PostgreSQL client starts TLS (protocol "SSL Session Encryption"): an SSLRequest (length 8, code 80877103)
 * that the server answers `S`, or, from libpq 17 with `sslnegotiation=direct`, a TLS handshake at once. A plaintext
 * client starts with its StartupMessage; it gets an ErrorResponse, which psql prints as `FATAL:  <message>`.
 */
import type { ClientTlsStart } from "../types.ts";

/** The SSLRequest message: Int32 length 8, Int32 code 1234 << 16 | 5679. */
const SSL_REQUEST = Uint8Array.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** An ErrorResponse: severity FATAL, SQLSTATE 28000 (invalid_authorization_specification), `message`. */
export function postgresqlErrorResponse(message: string): Uint8Array {
  const fields = Buffer.concat([field("S", "FATAL"), field("V", "FATAL"), field("C", "28000"), field("M", message), Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write("E", 0, "latin1");
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

function field(code: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(code, "latin1"), Buffer.from(value, "utf8"), Buffer.from([0])]);
}

export const POSTGRESQL_TLS_START: ClientTlsStart = { preambles: [SSL_REQUEST], refusal: postgresqlErrorResponse };
