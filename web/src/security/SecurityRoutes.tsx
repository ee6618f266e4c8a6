import { Route, Routes } from 'react-router-dom';
import { NotFoundPage } from '../app/NotFoundPage';
import { FindingPage } from './FindingPage';
import { FindingsPage } from './FindingsPage';

/** The security pages under /security (loaded lazily by App.tsx). */
export default function SecurityRoutes() {
  return (
    <Routes>
      <Route index element={<FindingsPage />} />
      <Route path="findings/:id" element={<FindingPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
