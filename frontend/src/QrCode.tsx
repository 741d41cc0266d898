import qrcode from "qrcode-generator";
import { useMemo } from "react";

/**
 * QrCode draws `value` as a QR code in an inline SVG: built in the page (the value, a TOTP secret,
 * never goes to a third-party image service) and drawn with elements rather than a data: URL or
 * inline styles, which the Content-Security-Policy would refuse. Dark modules are one path, so
 * even a long otpauth URI stays a small DOM.
 */
export function QrCode({ value, label }: { value: string; label: string }) {
  const { size, path } = useMemo(() => {
    const qr = qrcode(0, "M"); // smallest version that fits; M survives a slightly blurry camera
    qr.addData(value, "Byte");
    qr.make();
    const n = qr.getModuleCount();
    let d = "";
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) {
        if (qr.isDark(row, col)) d += `M${col + QUIET} ${row + QUIET}h1v1h-1z`;
      }
    }
    return { size: n + 2 * QUIET, path: d };
  }, [value]);
  return (
    <svg className="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shapeRendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

// The blank border (in modules) scanners need around a code.
const QUIET = 4;
