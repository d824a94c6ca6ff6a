// A lit ReactiveController that re-renders its host whenever the LabController's view changes.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LabController, LabView } from '../../app/lab-controller.ts';

export class LabViewController implements ReactiveController {
  private readonly onChange = (): void => this.host.requestUpdate();

  constructor(private readonly host: ReactiveControllerHost, private readonly lab: LabController) {
    host.addController(this);
  }

  get view(): LabView {
    return this.lab.view;
  }

  hostConnected(): void {
    this.lab.addEventListener('change', this.onChange);
  }

  hostDisconnected(): void {
    this.lab.removeEventListener('change', this.onChange);
  }
}
