import { correction, generate } from "lean-qr/nano";
import { useMemo } from "react";

/**
 * QrCode draws `value` as a QR code in an inline SVG: built in the page (the value, a TOTP secret,
 * never goes to a third-party image service) and drawn with elements rather than a data: URL or
 * inline styles, which the Content-Security-Policy would refuse. Dark modules are one path, so
 * even a long otpauth URI stays a small DOM. lean-qr's "nano" build (about 4 kB) is used because
 * the web app is embedded in a binary with a size budget.
 */
export function QrCode({ value, label }: { value: string; label: string }) {
  const { size, path } = useMemo(() => {
    // At least M: survives a slightly blurry phone camera; a larger level is used when it fits.
    const qr = generate(value, { minCorrectionLevel: correction.M });
    let d = "";
    for (let y = 0; y < qr.size; y++) {
      for (let x = 0; x < qr.size; x++) {
        if (qr.get(x, y)) d += `M${x + QUIET} ${y + QUIET}h1v1h-1z`;
      }
    }
    return { size: qr.size + 2 * QUIET, path: d };
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
