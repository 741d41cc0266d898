import { Link } from "react-router-dom";
import { usePageTitle } from "../ui";

export default function NotFound() {
  usePageTitle("Page not found");
  return (
    <section className="auth-card" aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p>There's nothing at this address.</p>
      <p>
        <Link to="/">Go to the start page</Link>
      </p>
    </section>
  );
}
