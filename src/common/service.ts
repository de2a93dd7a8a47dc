/** A started service (exporter, detector, bridge): what `vigil all` and the tests hold on to. */
export interface RunningService {
  name: string;
  /** Base URL of its HTTP server with the real port. */
  url: string;
  close(): Promise<void>;
}
