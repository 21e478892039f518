/** TLS: the private CA, the API server's and instances' serving certificates, and the checks of a certificate a user brings. */
export * from "./certificates.ts";
export * from "./user-certificate.ts";
