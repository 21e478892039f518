/** The enrolment QR code, drawn with text characters for a terminal. */
import QRCode from "qrcode";

/** Render `otpauthUri` as a QR code a phone can scan from a terminal. The URI holds the TOTP seed: show it only to its owner. */
export function renderOtpauthQr(otpauthUri: string): Promise<string> {
  return QRCode.toString(otpauthUri, { type: "terminal", small: true });
}
