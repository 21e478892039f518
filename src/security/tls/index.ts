/** TLS for the API server: a private CA and a loopback serving certificate. */
export * from "./certificates.ts";
export * from "./user-certificate.ts";
