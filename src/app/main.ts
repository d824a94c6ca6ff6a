// Composition root of the page: builds the LabController (workers, storage, tracking), hands it to <tunelab-app>,
// then starts it (WebGPU check, and the resume of a study that was running before a reload).
import { LabController } from './lab-controller.ts';
import '../ui/tl-app.ts';

const lab = new LabController();
const app = document.querySelector('tunelab-app') ?? document.body.appendChild(document.createElement('tunelab-app'));
app.lab = lab;
// Tests and the console can reach the controller (read-only use).
(window as unknown as { tunelab: LabController }).tunelab = lab;
lab.start().catch((e: unknown) => {
  console.error(e);
});
