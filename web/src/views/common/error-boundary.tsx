import { Component, type ReactNode } from 'react';

export interface ErrorBoundaryProps {
  children: ReactNode;
  /** What failed, for the message ("the map", "this page"). */
  what: string;
  /** Try rendering again after this long (the wall must heal without a person). */
  retryMs?: number;
  /** Changing it clears the error (e.g. a route or incident id). */
  resetKey?: unknown;
}

interface State {
  error?: Error;
  key?: unknown;
}

/** Keeps one broken panel from blanking the whole screen, and says what to do. */
export class ErrorBoundary extends Component<ErrorBoundaryProps, State> {
  override state: State = {};
  private timer?: number;

  static getDerivedStateFromError(error: Error): Partial<State> {
    return { error };
  }

  static getDerivedStateFromProps(props: ErrorBoundaryProps, state: State): Partial<State> | null {
    if (props.resetKey !== state.key) return { key: props.resetKey, error: undefined };
    return null;
  }

  override componentDidCatch(error: Error): void {
    console.error(`downstream: ${this.props.what} failed`, error);
    if (this.props.retryMs) {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.setState({ error: undefined }), this.props.retryMs);
    }
  }

  override componentWillUnmount(): void {
    window.clearTimeout(this.timer);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="banner banner-error" role="alert" data-testid="view-error">
        {this.props.what} failed: {this.state.error.message}.{' '}
        {this.props.retryMs
          ? `Retrying in ${Math.round(this.props.retryMs / 1000)} s.`
          : 'Reload the page; if it keeps failing, check the server log.'}
      </div>
    );
  }
}
