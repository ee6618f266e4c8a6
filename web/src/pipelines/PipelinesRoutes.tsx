import { Route, Routes } from 'react-router-dom';
import { NotFoundPage } from '../app/NotFoundPage';
import { RunPage } from './RunPage';
import { RunsPage } from './RunsPage';

/** The pipeline pages under /runs (loaded lazily by App.tsx). */
export default function PipelinesRoutes() {
  return (
    <Routes>
      <Route index element={<RunsPage />} />
      <Route path=":id" element={<RunPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
