// Island of the study page: while a transfer runs, polls the study's progress JSON and updates
// the progress bars and states in place. Without script the page still shows the state at load.
const table = document.querySelector("[data-progress-url]");
if (table) {
  const url = table.getAttribute("data-progress-url");
  const tick = async () => {
    let data;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return setTimeout(tick, 5000);
      data = await response.json();
    } catch {
      return setTimeout(tick, 5000);
    }
    for (const job of data.jobs) {
      const bar = document.querySelector(`[data-progress-job="${job.id}"]`);
      if (bar) {
        bar.max = job.total || 1;
        bar.value = job.done;
      }
      const text = document.querySelector(`[data-progress-text="${job.id}"]`);
      if (text) text.textContent = job.text;
      const row = document.querySelector(`tr[data-job="${job.id}"]`);
      if (row && row.getAttribute("data-state") !== job.state) {
        row.setAttribute("data-state", job.state);
        const cell = row.querySelector(`[data-job-state="${job.id}"]`);
        if (cell) cell.textContent = job.stateLabel;
      }
    }
    if (data.running) setTimeout(tick, 1500);
    else location.reload(); // the timeline and actions change when a job ends
  };
  setTimeout(tick, 1500);
}
